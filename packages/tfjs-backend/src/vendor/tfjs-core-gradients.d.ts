// Types of the generated gradient bundle (importing it registers every tfjs-core gradient).
export declare const TFJS_CORE_VERSION: string;
