// Limits the two backends share with the addon.

/** The most threads the native pool runs (kMaxThreads in native/kernels/runtime.h; test/00 checks they agree). */
export const MAX_THREADS = 256;
