/**
 * A client's trend chart for the therapist's summary: pain, mobility, stress and sleep across the
 * plan's check-ins on a fixed 0–10 scale, the baseline marked by a shaded column and each change
 * of phase by a vertical rule. Drawn as SVG and rasterised to PNG with resvg (WebAssembly, so
 * no native binary in Lambda), because mail clients that block SVG still show an inline PNG.
 *
 * The picture holds no text (no fonts to ship): the legend sits beside it in the email, and the
 * alt text says the same trend in words for a screen reader or a client with images blocked.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { SCORES, type Score } from '../domain/model.js';
import { verdict } from '../domain/trends.js';
import { NO_CHECK_INS } from './texts.js';

import type { ChartPoint } from '../domain/summary.js';

export type { ChartPoint };

/** One colour and dash pattern per score, so the lines differ without colour too; `looks` is the legend's word for it. */
export const SERIES: Readonly<Record<Score, { readonly colour: string; readonly dash: string; readonly looks: string }>> = {
  pain: { colour: '#c0392b', dash: '', looks: 'solid red' },
  mobility: { colour: '#1f6fb2', dash: '6 3', looks: 'dashed blue' },
  stress: { colour: '#b9770e', dash: '2 3', looks: 'dotted amber' },
  sleep: { colour: '#6c3483', dash: '8 3 2 3', looks: 'dash-dot purple' },
};

/** The legend the email shows above the charts (the pictures hold no text). */
export const CHART_LEGEND = `Charts: ${SCORES.map((s) => `${s} ${SERIES[s].looks}`).join(', ')}, on a 0–10 scale; the shaded column is the baseline, a dark rule a change of phase.`;

/** CSS pixels the chart is shown at; the PNG is drawn at twice this for sharp phone screens. */
export const CHART_WIDTH = 320;
export const CHART_HEIGHT = 120;
const SCALE = 2;
const PAD = { left: 16, right: 16, top: 8, bottom: 8 };

/** At most this many check-ins are drawn: the most recent ones. */
export const CHART_POINTS = 12;

function x(index: number, count: number): number {
  const inner = CHART_WIDTH - PAD.left - PAD.right;
  return count <= 1 ? PAD.left + inner / 2 : PAD.left + (index / (count - 1)) * inner;
}

function y(value: number): number {
  const inner = CHART_HEIGHT - PAD.top - PAD.bottom;
  return PAD.top + (1 - Math.min(Math.max(value, 0), 10) / 10) * inner;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The chart as an SVG document, `CHART_WIDTH` × `CHART_HEIGHT` user units drawn at 2×. */
export function trendChartSvg(all: readonly ChartPoint[]): string {
  const points = all.slice(-CHART_POINTS);
  const n = points.length;
  const parts: string[] = [];
  parts.push(`<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#ffffff"/>`);
  for (const value of [0, 5, 10]) {
    parts.push(`<line x1="${PAD.left}" x2="${CHART_WIDTH - PAD.right}" y1="${y(value)}" y2="${y(value)}" stroke="#d5d8dc" stroke-width="1"/>`);
  }
  const step = n > 1 ? (CHART_WIDTH - PAD.left - PAD.right) / (n - 1) : CHART_WIDTH / 2;
  points.forEach((p, i) => {
    if (p.isBaseline) {
      const w = Math.max(12, step / 2);
      parts.push(`<rect x="${round(x(i, n) - w / 2)}" y="${PAD.top}" width="${round(w)}" height="${CHART_HEIGHT - PAD.top - PAD.bottom}" fill="#eaf2f8"/>`);
    }
    const before = points[i - 1];
    if (before && before.phaseIndex !== p.phaseIndex) {
      const at = round((x(i - 1, n) + x(i, n)) / 2);
      parts.push(`<line x1="${at}" x2="${at}" y1="${PAD.top}" y2="${CHART_HEIGHT - PAD.bottom}" stroke="#566573" stroke-width="1.5"/>`);
    }
  });
  for (const score of SCORES) {
    const { colour, dash } = SERIES[score];
    const coords = points.map((p, i) => `${round(x(i, n))},${round(y(p.scores[score]))}`);
    if (n > 1) {
      parts.push(
        `<polyline points="${coords.join(' ')}" fill="none" stroke="${colour}" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      );
    }
    for (const [i, p] of points.entries()) parts.push(`<circle cx="${round(x(i, n))}" cy="${round(y(p.scores[score]))}" r="3" fill="${colour}"/>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH * SCALE}" height="${CHART_HEIGHT * SCALE}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}">${parts.join('')}</svg>`;
}

/** `pain 7 → 4 since baseline, better`: one score's change from the first drawn point (the baseline when there is one). */
export function scoreTrendWords(score: Score, points: readonly ChartPoint[]): string | undefined {
  const shown = points.slice(-CHART_POINTS);
  const first = shown.find((p) => p.isBaseline) ?? shown[0];
  const last = shown.at(-1);
  if (!first || !last || first === last) return undefined;
  const [from, to] = [first.scores[score], last.scores[score]];
  const v = verdict(score, from, to);
  return `${score} ${from} → ${to} ${first.isBaseline ? 'since baseline' : `over ${shown.length} check-ins`}, ${v === 'same' ? 'no change' : v}`;
}

/** The chart in words, for its alt text: every score's change, then what the picture marks. */
export function trendAltText(points: readonly ChartPoint[]): string {
  const shown = points.slice(-CHART_POINTS);
  if (shown.length === 0) return NO_CHECK_INS;
  const changes = SCORES.map((s) => scoreTrendWords(s, shown)).filter((w): w is string => w !== undefined);
  const phaseChanges = shown.filter((p, i) => i > 0 && shown[i - 1]!.phaseIndex !== p.phaseIndex).length;
  const intake = shown.some((p) => p.intake);
  const checkIns = shown.length - (intake ? 1 : 0);
  const one = checkIns === 0 ? 'Intake questionnaire' : 'One check-in';
  const words = changes.length > 0 ? `${changes.join('; ')}.` : `${one}: ${SCORES.map((s) => `${s} ${shown[0]!.scores[s]}`).join(', ')}.`;
  const counted = `${checkIns} check-in${checkIns === 1 ? '' : 's'}`;
  const marks = `${intake ? `The intake questionnaire and ${counted}` : counted} shown${phaseChanges > 0 ? `, ${phaseChanges} change${phaseChanges === 1 ? '' : 's'} of phase` : ''}.`;
  const first = words.charAt(0).toUpperCase() + words.slice(1);
  return `${first} ${marks}`;
}

// ------------------------------------------------------------------ rasterising

let ready: Promise<typeof import('@resvg/resvg-wasm')> | undefined;

/**
 * The WebAssembly module, loaded once per container: beside the bundle in Lambda (the CDK
 * bundling copies it there), from the package when run from source (the twin, the tests).
 */
async function wasmBytes(): Promise<Buffer> {
  const beside = fileURLToPath(new URL('./index_bg.wasm', import.meta.url));
  try {
    return await readFile(beside);
  } catch {
    return readFile(createRequire(import.meta.url).resolve('@resvg/resvg-wasm/index_bg.wasm'));
  }
}

function resvg(): Promise<typeof import('@resvg/resvg-wasm')> {
  ready ??= (async () => {
    const module = await import('@resvg/resvg-wasm');
    await module.initWasm(await wasmBytes());
    return module;
  })().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

export interface RenderedChart {
  readonly png: Uint8Array;
  /** Pixel size of the PNG (twice the CSS size). */
  readonly width: number;
  readonly height: number;
  readonly alt: string;
}

async function rasterise(svg: string, alt: string): Promise<RenderedChart> {
  const { Resvg } = await resvg();
  const image = new Resvg(svg, { fitTo: { mode: 'original' } }).render();
  try {
    return { png: image.asPng(), width: image.width, height: image.height, alt };
  } finally {
    image.free();
  }
}

/** The PNG of a client's trend and its alt text. */
export async function renderTrendChart(points: readonly ChartPoint[]): Promise<RenderedChart> {
  return rasterise(trendChartSvg(points), trendAltText(points));
}

// ------------------------------------------------------------------ change since baseline

/** Points either side of the zero line the change chart spans; a larger mean is drawn at the edge. */
export const CHANGE_CHART_RANGE = 3;
export const CHANGE_CHART_HEIGHT = 80;

/** A mean change as improvement: positive is better whichever way the score reads. */
function improvement(score: Score, change: number): number {
  return verdict(score, 0, change) === 'worse' ? -Math.abs(change) : Math.abs(change);
}

/**
 * A goal's mean change since baseline: one bar per score in the score's colour, drawn as
 * improvement, so a bar above the line is better and one below is worse, whichever way the score
 * reads. No text in the picture; the alt text says it in words.
 */
export function changeChartSvg(change: Readonly<Record<Score, number>>): string {
  const mid = CHANGE_CHART_HEIGHT / 2;
  const half = mid - PAD.top;
  const slot = (CHART_WIDTH - PAD.left - PAD.right) / SCORES.length;
  const parts = [`<rect width="${CHART_WIDTH}" height="${CHANGE_CHART_HEIGHT}" fill="#ffffff"/>`];
  SCORES.forEach((score, i) => {
    const value = Math.max(-CHANGE_CHART_RANGE, Math.min(CHANGE_CHART_RANGE, improvement(score, change[score])));
    const h = Math.max(1, Math.abs(value / CHANGE_CHART_RANGE) * half);
    const top = value >= 0 ? mid - h : mid;
    parts.push(
      `<rect x="${round(PAD.left + i * slot + slot * 0.2)}" y="${round(top)}" width="${round(slot * 0.6)}" height="${round(h)}" fill="${SERIES[score].colour}"/>`,
    );
  });
  parts.push(`<line x1="${PAD.left}" x2="${CHART_WIDTH - PAD.right}" y1="${mid}" y2="${mid}" stroke="#566573" stroke-width="1.5"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH * SCALE}" height="${CHANGE_CHART_HEIGHT * SCALE}" viewBox="0 0 ${CHART_WIDTH} ${CHANGE_CHART_HEIGHT}">${parts.join('')}</svg>`;
}

/** `pain −1.5 (better), mobility +0.5 (better), stress ±0 (no change), sleep −1 (worse)`. */
export function changeWords(change: Readonly<Record<Score, number>>): string {
  return SCORES.map((score) => {
    const v = change[score];
    const sign = v > 0 ? `+${v}` : v < 0 ? `−${-v}` : '±0';
    const word = verdict(score, 0, v);
    return `${score} ${sign} (${word === 'same' ? 'no change' : word})`;
  }).join(', ');
}

/** The PNG of a goal's mean change since baseline, with its alt text. */
export async function renderChangeChart(goalName: string, change: Readonly<Record<Score, number>>): Promise<RenderedChart> {
  return rasterise(changeChartSvg(change), `${goalName}, mean change since baseline: ${changeWords(change)}.`);
}
