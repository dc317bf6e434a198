// Builds the server SDK package to dist/: JavaScript and type declarations by tsc.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileTypeScript } from '../../scripts/compile-typescript.mjs';

const dir = fileURLToPath(new URL('.', import.meta.url));
rmSync(join(dir, 'dist'), { recursive: true, force: true });
compileTypeScript(join(dir, 'tsconfig.build.json'), join(dir, 'dist'));
