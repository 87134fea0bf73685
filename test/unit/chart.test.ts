import { describe, expect, it } from 'vitest';
import { CHART_POINTS, renderTrendChart, scoreTrendWords, trendAltText, trendChartSvg, type ChartPoint } from '../../shared/email/chart.js';

const point = (pain: number, mobility: number, stress: number, sleep: number, phaseIndex = 0, isBaseline = false): ChartPoint => ({
  scores: { pain, mobility, stress, sleep },
  isBaseline,
  phaseIndex,
});

const course = [point(7, 4, 6, 5, 0, true), point(6, 5, 5, 5), point(5, 6, 5, 6), point(4, 6, 6, 7, 1)];

describe('a client’s trend chart', () => {
  it('draws one line per score, shades the baseline and rules each change of phase', () => {
    const svg = trendChartSvg(course);

    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg.match(/<circle /g)).toHaveLength(16);
    expect(svg.match(/fill="#eaf2f8"/g)).toHaveLength(1);
    expect(svg.match(/stroke="#566573"/g)).toHaveLength(1);
    expect(svg).not.toMatch(/<text/);
  });

  it('draws only the most recent check-ins when there are many', () => {
    const many = Array.from({ length: CHART_POINTS + 5 }, (_, i) => point(i % 10, 5, 5, 5));

    expect(trendChartSvg(many).match(/<circle /g)).toHaveLength(CHART_POINTS * 4);
  });

  it('says the trend in words against the baseline, better or worse by score', () => {
    expect(scoreTrendWords('pain', course)).toBe('pain 7 → 4 since baseline, better');
    expect(scoreTrendWords('stress', course)).toBe('stress 6 → 6 since baseline, no change');
    expect(trendAltText(course)).toBe(
      'Pain 7 → 4 since baseline, better; mobility 4 → 6 since baseline, better; stress 6 → 6 since baseline, no change; sleep 5 → 7 since baseline, better. 4 check-ins shown, 1 change of phase.',
    );
  });

  it('says "over N check-ins" when the baseline is not among the points, and what a single check-in was', () => {
    expect(scoreTrendWords('pain', [point(6, 5, 5, 5), point(8, 5, 5, 5)])).toBe('pain 6 → 8 over 2 check-ins, worse');
    expect(trendAltText([point(6, 5, 4, 3)])).toBe('One check-in: pain 6, mobility 5, stress 4, sleep 3. 1 check-in shown.');
    expect(trendAltText([])).toBe('No check-ins');
  });

  it('rasterises to a PNG twice the CSS size', async () => {
    const chart = await renderTrendChart(course);

    expect(Buffer.from(chart.png.subarray(1, 4)).toString('ascii')).toBe('PNG');
    expect([chart.width, chart.height]).toEqual([640, 240]);
    expect(chart.alt).toBe(trendAltText(course));
  });
});
