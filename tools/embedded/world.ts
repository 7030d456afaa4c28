/**
 * The vocabulary of the embedded synthetic benchmark: small, closed word lists so a tiny model can learn
 * the task mapping, plus per-concept synonym sets from which every user has a fixed personal choice.
 */
export const SUBJECTS = ['the city council', 'local schools', 'a tech company', 'the national team', 'state officials', 'researchers', 'the river authority', 'a small bakery', 'the hospital', 'farmers', 'the airline', 'students', 'the museum', 'the mayor', 'a startup', 'the police'];
export const OBJECTS = ['a new park', 'the budget', 'a bike lane', 'the old bridge', 'a data center', 'the harbor', 'a music festival', 'the library', 'a solar farm', 'the stadium', 'a food market', 'the train line'];
export const PLACES = ['Springfield', 'Riverton', 'Oakdale', 'Lakeside', 'Hillview', 'Brookfield', 'Fairport', 'Maple Bay'];
export const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
export const REACTIONS = ['Residents welcomed the decision.', 'Critics called the plan rushed.', 'Officials expect work to start soon.', 'The vote was close.', 'Local shops hope for more visitors.', 'A public meeting is planned next week.'];

/** Concepts with interchangeable wordings; a user always picks the same wording. */
export const CONCEPTS: Record<string, string[]> = {
  approve: ['approves', 'backs', 'okays', 'greenlights'],
  close: ['closes', 'shuts', 'halts', 'suspends'],
  open: ['opens', 'unveils', 'launches', 'debuts'],
  fund: ['funds', 'pays for', 'finances', 'bankrolls'],
  reject: ['rejects', 'blocks', 'turns down', 'scraps'],
  good: ['great', 'excellent', 'solid', 'fantastic'],
  bad: ['poor', 'disappointing', 'weak', 'flimsy'],
  show: ['show', 'demonstrate', 'reveal', 'confirm'],
  improve: ['improves', 'boosts', 'enhances', 'raises'],
};
export const ACTIONS = ['approve', 'close', 'open', 'fund', 'reject'];

export const TOPICS = ['graph learning', 'speech recognition', 'protein folding', 'code generation', 'image retrieval', 'weather forecasting', 'text summarization', 'robot navigation'];
export const METHODS = ['sparse attention', 'contrastive pretraining', 'adaptive pruning', 'curriculum learning', 'low-rank adapters', 'graph transformers'];
export const APPLICATIONS = ['mobile devices', 'medical records', 'low-resource languages', 'edge sensors', 'online shopping', 'climate data'];
export const METRICS = ['accuracy', 'speed', 'robustness', 'memory use', 'calibration'];
export const DATASETS = ['three public benchmarks', 'a new corpus', 'two real-world datasets', 'standard benchmarks'];

export const PRODUCTS = ['USB-C cable', 'coffee grinder', 'hiking backpack', 'desk lamp', 'wireless mouse', 'water bottle', 'phone case', 'rice cooker', 'yoga mat', 'bluetooth speaker'];
export const PRODUCT_TRAITS = ['charges fast', 'is easy to clean', 'feels sturdy', 'looks nice', 'is very light', 'is quiet', 'holds a lot', 'was cheap'];

export const POST_TOPICS = ['my first marathon', 'learning to bake bread', 'moving to a new city', 'adopting a rescue dog', 'building a gaming pc', 'starting a garden', 'quitting coffee', 'a trip to the mountains'];
export const POST_DETAILS = ['it took longer than i expected', 'my friends helped a lot', 'i made many mistakes at first', 'it was cheaper than i thought', 'i would do it again', 'the first week was the hardest'];
