import { packageConfig } from '@vla-lora/vitest-config';

export default packageConfig();
