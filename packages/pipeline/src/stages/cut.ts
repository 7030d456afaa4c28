import type { UserStageContext } from '../user-context.js';

/** How training examples are cut, for the messages that count them. */
export function cutTo(ctx: UserStageContext): string {
  return `cut to ${ctx.codec.cutoff} tokens a part or ${ctx.codec.maxLength} in all (the model's context)`;
}
