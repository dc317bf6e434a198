export const SDK_NAME = '@socketscope/web-sdk';
