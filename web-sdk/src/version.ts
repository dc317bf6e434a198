/** Kept equal to package.json's version by web-sdk/test/version.test.ts. */
export const SDK_NAME = '@socketscope/web-sdk';
export const SDK_VERSION = '0.1.0';
