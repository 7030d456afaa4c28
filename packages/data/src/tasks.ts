/**
 * The five LaMP / LongLaMP tasks of the CoPe paper, with the prompts of CoPe's `prompt/prompt.json`
 * and the field layout of the data files its `scripts/*.py` read.
 */
export const TASK_NAMES = ['news_headline', 'scholarly_title', 'abstract_generation', 'review_writing', 'topic_writing'] as const;
export type TaskName = (typeof TASK_NAMES)[number];
export type LampTaskId = 'LaMP_4' | 'LaMP_5' | 'LongLaMP_2' | 'LongLaMP_3' | 'LongLaMP_4';

/** A profile item: the task's string fields plus an `id`. */
export type ProfileItem = { id: string } & Record<string, string>;

export interface TaskSpec {
  name: TaskName;
  /** `utils.name2taskid`. */
  lampId: LampTaskId;
  system: string;
  /** Profile item fields, all required strings. */
  profileFields: string[];
  /** The field a profile item's output lives in. */
  targetField: string;
  /** Test-time prompt for a query, from the fields parsed out of its raw LaMP `input`. */
  testPrompt(fields: Record<string, string>): string;
  /** Test-style prompt for a profile item (pseudo-negative generation uses it). */
  itemTestPrompt(item: Record<string, string>): string;
  /** `OPPU_input`: the training prompt of a profile item. */
  trainPrompt(item: Record<string, string>): string;
  /** `compute_scores`' raw prompt text of a profile item (cope-compat scoring). */
  scoringText(item: Record<string, string>): string;
  /** Parses a raw LaMP/LongLaMP query `input` into the fields the test prompt needs. */
  parseQueryInput(input: string): Record<string, string>;
  /** `max_new_tokens`: 100 for LaMP, 600 for LongLaMP. */
  maxNewTokens: number;
  long: boolean;
  /** The marker `get_output` keeps the text after (its last occurrence). */
  outputMarker: string;
}

function after(input: string, marker: string): string {
  const i = input.indexOf(marker);
  return i >= 0 ? input.slice(i + marker.length) : input;
}

function quoted(input: string, re: RegExp): string {
  const m = re.exec(input);
  return m ? m[1] : 'N/A';
}

const reviewPrompt = (o: string, d: string, s: string) =>
  `Generate the review text written by a reviewer who has a given an overall rating of "${o}" for a product with description "${d}". The summary of the review text is "${s}".\nReview:`;

export const TASKS: Record<TaskName, TaskSpec> = {
  news_headline: {
    name: 'news_headline', lampId: 'LaMP_4', system: 'You are a news headline generator.',
    profileFields: ['text', 'title'], targetField: 'title',
    testPrompt: (f) => `Generate a headline for the following article.\narticle: ${f.text}\nheadline:`,
    itemTestPrompt: (i) => `Generate a headline for the following article.\narticle: ${i.text}\nheadline:`,
    trainPrompt: (i) => `Generate a headline for the following article.\narticle: ${i.text}\nheadline:`,
    scoringText: (i) => i.text,
    parseQueryInput: (s) => ({ text: after(s, 'Generate a headline for the following article: ') }),
    maxNewTokens: 100, long: false, outputMarker: 'headline:',
  },
  scholarly_title: {
    name: 'scholarly_title', lampId: 'LaMP_5', system: 'You are a scholarly title generator.',
    profileFields: ['abstract', 'title'], targetField: 'title',
    testPrompt: (f) => `Generate a title for the following abstract of a paper.\n abstract: ${f.abstract} title:`,
    itemTestPrompt: (i) => `Generate a title for the following abstract of a paper.\n abstract: ${i.abstract} title:`,
    trainPrompt: (i) => `Generate a title for the following abstract of a paper.\n abstract: ${i.abstract} title:`,
    scoringText: (i) => i.abstract,
    parseQueryInput: (s) => ({ abstract: after(s, 'Generate a title for the following abstract of a paper: ') }),
    maxNewTokens: 100, long: false, outputMarker: 'title:',
  },
  abstract_generation: {
    name: 'abstract_generation', lampId: 'LongLaMP_2', system: 'You are an abstract writer.',
    profileFields: ['title', 'abstract'], targetField: 'abstract',
    testPrompt: (f) => `Generate an abstract for the title '${f.title}'.\nAbstract:`,
    itemTestPrompt: (i) => `Generate an abstract for the title '${i.title}'.\nAbstract:`,
    trainPrompt: (i) => `Generate an abstract for the title '${i.title}'.\nAbstract:`,
    scoringText: (i) => i.title,
    parseQueryInput: (s) => ({ title: after(s, 'Generate an abstract for the title ') }),
    maxNewTokens: 600, long: true, outputMarker: 'Abstract:',
  },
  review_writing: {
    name: 'review_writing', lampId: 'LongLaMP_3', system: 'You are a review writer.',
    profileFields: ['overall', 'description', 'summary', 'reviewText'], targetField: 'reviewText',
    testPrompt: (f) => reviewPrompt(f.overall, f.description, f.summary),
    itemTestPrompt: (i) => reviewPrompt(i.overall, i.description, i.summary),
    trainPrompt: (i) => `Generate a detailed review for a product with the following description: '${i.description}'. The review has an overall rating of '${i.overall}'. The review summary is: '${i.summary}'.\nReview:`,
    scoringText: (i) => `${i.overall} ${i.description} ${i.summary}`,
    parseQueryInput: (s) => ({
      overall: quoted(s, /overall rating of "([^"]+)"/),
      description: quoted(s, /description "([^"]+)"/),
      summary: quoted(s, /summary of the review text is "([^"]+)"/),
    }),
    maxNewTokens: 600, long: true, outputMarker: 'Review:',
  },
  topic_writing: {
    name: 'topic_writing', lampId: 'LongLaMP_4', system: 'You are a creative content generator for Reddit posts.',
    profileFields: ['summary', 'content'], targetField: 'content',
    testPrompt: (f) => `Generate the content for a reddit post \npost: ${f.summary}\ncontent:`,
    itemTestPrompt: (i) => `Generate the content for a reddit post \npost: ${i.summary}\ncontent:`,
    trainPrompt: (i) => `Generate the content for a reddit post ${i.summary}.\ncontent: `,
    scoringText: (i) => i.summary,
    parseQueryInput: (s) => ({ summary: after(s, 'Generate the content for a reddit post ') }),
    maxNewTokens: 600, long: true, outputMarker: 'content:',
  },
};

/** Looks a task up by name or LaMP id; unknown names get an error listing the valid ones. */
export function getTask(nameOrId: string): TaskSpec {
  const t = (TASKS as Record<string, TaskSpec>)[nameOrId] ?? Object.values(TASKS).find((x) => x.lampId === nameOrId);
  if (!t) throw new Error(`Unknown task "${nameOrId}": expected one of ${TASK_NAMES.join(', ')} (or ${Object.values(TASKS).map((x) => x.lampId).join(', ')})`);
  return t;
}

/** Python's `str.isspace` characters: what `str.strip()` removes (JS `trim` differs on \x1c-\x1f, \x85 and \uFEFF). */
const PY_WHITESPACE = new Set([...'\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000'].concat(Array.from({ length: 11 }, (_, i) => String.fromCharCode(0x2000 + i))));

/** Python's `text.strip(chars)`: `chars` removed from both ends (whitespace when omitted). */
export function pythonStrip(text: string, chars?: string): string {
  const drop = (c: string) => (chars === undefined ? PY_WHITESPACE.has(c) : chars.includes(c));
  const cs = [...text];
  let a = 0;
  let b = cs.length;
  while (a < b && drop(cs[a])) a++;
  while (b > a && drop(cs[b - 1])) b--;
  return cs.slice(a, b).join('');
}

/**
 * `get_output` for CoPe's Mistral branch: the text after the last occurrence of the task marker, then
 * `.strip().strip('"').strip("'")`.
 */
export function extractOutput(task: TaskSpec, decoded: string): string {
  const i = decoded.lastIndexOf(task.outputMarker);
  const tail = i >= 0 ? decoded.slice(i + task.outputMarker.length) : decoded;
  return pythonStrip(pythonStrip(pythonStrip(tail), '"'), "'");
}

/** `get_first_k_tokens(v, k)`: the first k whitespace-separated words joined by single spaces. */
export function firstKWords(text: string, k = 768): string {
  return text.split(/\s+/).filter(Boolean).slice(0, k).join(' ');
}
