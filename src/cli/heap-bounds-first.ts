/**
 * Imported first by the command line's entry (before any other module is evaluated): the heap
 * bounds (util/heap-bounds.ts) are in place from the start. Loading the rest would otherwise grow
 * the main thread's young generation past its bound, and V8's first full collection (~0.2 s in)
 * would set the old generation's next limit at up to 4 times what is live, where the first
 * minutes of load then take it. A server with several front-end loops releases the young
 * generation's bound when it starts.
 */
import { boundMainYoungGeneration, boundOldGeneration } from '../util/heap-bounds.js';

boundOldGeneration();
boundMainYoungGeneration();
