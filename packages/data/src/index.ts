/**
 * @cope/data — tokenizers, chat templates, the five LaMP/LongLaMP tasks, validated data files and
 * example building.
 */
export { CopeTokenizer, loadTokenizer, type EncodeOptions, type DecodeOptions } from './tokenizer.js';
