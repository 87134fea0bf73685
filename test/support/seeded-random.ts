/** The twin's deterministic generator (mulberry32), shared with the chaos layer. */
export { seededRandom } from '../../local/chaos/random.js';
