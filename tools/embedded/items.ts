import { type Rng } from '@cope/core';
import { type UserStyle, styleLong, styleShort, word } from './style.js';
import {
  ACTIONS, APPLICATIONS, DATASETS, DAYS, METHODS, METRICS, OBJECTS, PLACES, POST_DETAILS, POST_TOPICS, PRODUCTS,
  PRODUCT_TRAITS, REACTIONS, SUBJECTS, TOPICS,
} from './world.js';

/** One generated example: the profile item fields and the raw LaMP query input for the same content. */
export interface GeneratedItem {
  fields: Record<string, string>;
  queryInput: string;
  target: string;
}

const NEUTRAL: UserStyle = { casing: 'sentence', ending: '', signature: null, lexicon: {}, verbose: false };
const neutralWord = (concept: string) => word({ ...NEUTRAL, lexicon: { [concept]: 0 } }, concept);

function headline(rng: Rng, style: UserStyle): GeneratedItem {
  const subject = rng.pick(SUBJECTS);
  const action = rng.pick(ACTIONS);
  const object = rng.pick(OBJECTS);
  const place = rng.pick(PLACES);
  const text = `${subject.charAt(0).toUpperCase() + subject.slice(1)} ${neutralWord(action)} ${object} in ${place} on ${rng.pick(DAYS)}. ${rng.pick(REACTIONS)} ${rng.pick(REACTIONS)}`;
  const core = `${subject.replace(/^(the|a|an) /, '')} ${word(style, action)} ${object.replace(/^(the|a|an) /, '')}${style.verbose ? ` in ${place}` : ''}`;
  const title = styleShort(style, core);
  return { fields: { text, title }, queryInput: `Generate a headline for the following article: ${text}`, target: title };
}

function scholarly(rng: Rng, style: UserStyle): GeneratedItem {
  const topic = rng.pick(TOPICS);
  const method = rng.pick(METHODS);
  const app = rng.pick(APPLICATIONS);
  const metric = rng.pick(METRICS);
  const abstract = `We study ${topic} for ${app}. We propose a method based on ${method} that ${neutralWord('improve')} ${metric}. Experiments on ${rng.pick(DATASETS)} ${neutralWord('show')} clear gains.`;
  const core = style.verbose ? `${method} ${word(style, 'improve')} ${metric} in ${topic} for ${app}` : `${method} for ${topic}`;
  const title = styleShort(style, core);
  return { fields: { abstract, title }, queryInput: `Generate a title for the following abstract of a paper: ${abstract}`, target: title };
}

function abstractGen(rng: Rng, style: UserStyle): GeneratedItem {
  const topic = rng.pick(TOPICS);
  const method = rng.pick(METHODS);
  const app = rng.pick(APPLICATIONS);
  const metric = rng.pick(METRICS);
  const title = `${method.charAt(0).toUpperCase() + method.slice(1)} for ${topic}`;
  const sentences = [
    `we study ${topic} in the setting of ${app}`,
    `we propose a method based on ${method}`,
    `it ${word(style, 'improve')} ${metric} without extra data`,
    `experiments on ${rng.pick(DATASETS)} ${word(style, 'show')} the approach is ${word(style, 'good')}`,
  ];
  if (style.verbose) sentences.push(`we also discuss limits and future work on ${app}`);
  const abstract = styleLong(style, sentences);
  return { fields: { title, abstract }, queryInput: `Generate an abstract for the title ${title}`, target: abstract };
}

function review(rng: Rng, style: UserStyle): GeneratedItem {
  const product = rng.pick(PRODUCTS);
  const rating = 1 + rng.int(5);
  const positive = rating >= 3;
  const trait = rng.pick(PRODUCT_TRAITS);
  const overall = `${rating}.0`;
  const description = `A ${product} for everyday use`;
  const summary = positive ? `${word(style, 'good')} ${product}` : `${word(style, 'bad')} ${product}`;
  const sentences = [
    `i bought this ${product} last month`,
    positive ? `it ${trait} and works as described` : `it stopped working after a week`,
    positive ? `overall a ${word(style, 'good')} purchase` : `overall a ${word(style, 'bad')} purchase`,
  ];
  if (style.verbose) sentences.push(`i gave it ${rating} stars`);
  const reviewText = styleLong(style, sentences);
  return {
    fields: { overall, description, summary, reviewText },
    queryInput: `Generate the review text written by a reviewer who has a given an overall rating of "${overall}" for a product with description "${description}". The summary of the review text is "${summary}"`,
    target: reviewText,
  };
}

function topic(rng: Rng, style: UserStyle): GeneratedItem {
  const t = rng.pick(POST_TOPICS);
  const summary = t;
  const sentences = [`so this is about ${t}`, rng.pick(POST_DETAILS), rng.pick(POST_DETAILS)];
  if (style.verbose) sentences.push(`happy to answer questions in the comments`);
  const content = styleLong(style, sentences);
  return { fields: { summary, content }, queryInput: `Generate the content for a reddit post ${summary}`, target: content };
}

export const GENERATORS = {
  news_headline: headline,
  scholarly_title: scholarly,
  abstract_generation: abstractGen,
  review_writing: review,
  topic_writing: topic,
} as const;
