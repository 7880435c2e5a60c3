#!/usr/bin/env node
import { runBin } from '@vla-lora/cli-kit/bin';

await runBin(import.meta.url, 'cli-main');
