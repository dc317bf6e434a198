#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader, so a clone needs
// no build step between `npm ci` and `socketscope`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
