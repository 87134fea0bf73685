/**
 * An email as structured content. Templates build an EmailDocument; the renderer turns it into
 * an HTML part that reads well on a phone and a plain-text part. Every string here is plain
 * text: the renderer escapes it, so a template can never inject markup.
 */
export type Tone = 'info' | 'success' | 'warning' | 'alert';

export type Block =
  | { readonly type: 'heading'; readonly text: string }
  /** A paragraph; a `phone` number it contains becomes a tap-to-call link in the HTML part. */
  | { readonly type: 'paragraph'; readonly text: string; readonly phone?: string }
  | { readonly type: 'button'; readonly label: string; readonly url: string }
  | { readonly type: 'links'; readonly links: ReadonlyArray<{ readonly label: string; readonly url: string }> }
  /** Label / value pairs, e.g. When / Where / With. */
  | { readonly type: 'details'; readonly rows: ReadonlyArray<readonly [label: string, value: string]> }
  /** A highlighted box; `items` are listed inside it, under the text. */
  | { readonly type: 'notice'; readonly tone: Tone; readonly text: string; readonly items?: readonly string[] }
  /**
   * A compact table; `tone` per row highlights flags. A row's `link` is shown in a last column
   * (headed `linkColumn`), written out in full in the plain-text part.
   */
  | {
      readonly type: 'table';
      readonly caption?: string;
      readonly columns: readonly string[];
      readonly rows: ReadonlyArray<{
        readonly cells: readonly string[];
        readonly tone?: Tone;
        readonly link?: { readonly label: string; readonly url: string };
      }>;
      readonly linkColumn?: string;
    }
  | { readonly type: 'list'; readonly items: readonly string[] }
  /** An inline picture attached to the email under `cid`; `alt` says the same in words. */
  | { readonly type: 'image'; readonly cid: string; readonly alt: string }
  | { readonly type: 'divider' };

export interface EmailDocument {
  /** Shown by mail clients next to the subject. */
  readonly preheader: string;
  readonly blocks: readonly Block[];
  /** Footer lines, e.g. why the reader gets this email. */
  readonly footer?: readonly string[];
  /** Unsubscribe link shown in the footer (client emails). */
  readonly unsubscribeUrl?: string;
}

export interface Brand {
  readonly clinicName: string;
  readonly signature?: string;
  /** Buttons and links (clinic.brand.colour, contrast-checked). @default DEFAULT_BRAND_COLOUR */
  readonly colour?: string;
  /** An https logo shown above the clinic's name. */
  readonly logoUrl?: string;
}
