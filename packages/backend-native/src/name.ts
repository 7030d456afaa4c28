/** The tfjs backend name this package registers. */
export const NATIVE_BACKEND = 'native';

/**
 * `CopeDropout` {x} {rate, seed}: inverted dropout whose mask depends only on the seed and the element index, so
 * the same call on the output gradient is the backward pass. @cope/model uses it where the active backend has it.
 */
export const DROPOUT_KERNEL = 'CopeDropout';
