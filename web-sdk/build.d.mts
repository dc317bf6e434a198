// Types of build.mjs's exports, for bench/web-sdk-size.ts.
import type { BuildOptions } from 'esbuild';

export declare const ENTRY_POINTS: Record<'index' | 'otel' | 'vitals' | 'catalogue', string>;
export declare const EXTERNAL: string[];
export declare const BROWSER_BUILD: BuildOptions;
