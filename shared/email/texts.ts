/**
 * The words a clinic may want to change, kept apart from the templates' structure. Defaults suit
 * a clinical massage practice; a template takes an `EmailTexts` so a clinic's own copy can replace them.
 */
import { BUILT_IN_GOALS } from '../domain/model.js';

export type BuiltInGoal = (typeof BUILT_IN_GOALS)[number];

export interface EmailTexts {
  /** What to bring or do before a session, one item a line. */
  readonly beforeSession: readonly string[];
  /** A short aftercare note per built-in goal, and one for clinic-defined goals. */
  readonly aftercare: Readonly<Record<BuiltInGoal, string>> & { readonly other: string };
  /** How a client can book when the clinic has neither a booking page nor a phone number. */
  readonly bookByReply: string;
}

export const DEFAULT_TEXTS: EmailTexts = {
  beforeSession: [
    'Wear or bring loose, comfortable clothing.',
    'Drink a glass of water beforehand and try not to eat a large meal in the hour before.',
    'Arrive five minutes early, and tell your therapist about any change in your health or medication.',
  ],
  aftercare: {
    'back-pain':
      'Keep gently moving today: short walks help more than resting in one position. Warmth on your lower back in the evening can ease any stiffness.',
    'sports-injury':
      'Give the treated area a day before hard training, and build back up gradually. Some tenderness for a day or two is normal; sharp pain is not.',
    'general-wellness': 'Drink plenty of water today and give yourself an early night if you can: the benefits of a massage carry on while you rest.',
    other: 'Drink plenty of water today and take things gently. Some tenderness for a day or two is normal.',
  },
  bookByReply: 'Reply to this email with a few days and times that suit you, and we will book you in.',
};

function isBuiltInGoal(goal: string): goal is BuiltInGoal {
  return (BUILT_IN_GOALS as readonly string[]).includes(goal);
}

/** The aftercare note for a plan's goal; clinic-defined goals get the general one. */
export function aftercareFor(goal: string, texts: EmailTexts = DEFAULT_TEXTS): string {
  return isBuiltInGoal(goal) ? texts.aftercare[goal] : texts.aftercare.other;
}

/** A plan goal in words, never its slug: "general-wellness" → "General wellness". */
export function goalLabel(goal: string): string {
  const words = goal.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** What an email says of a period, or a chart, without a single answered check-in. */
export const NO_CHECK_INS = 'No check-ins';
