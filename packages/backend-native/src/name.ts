/** The tfjs backend name this package registers. */
export const NATIVE_BACKEND = 'native';
