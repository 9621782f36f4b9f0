/**
 * The analytics service from the streaming guide: a client stream of data points, aggregated as
 * they arrive (the handler sees each point as soon as it is sent, not after the upload ends).
 */
import { Service, stream, z } from "../mod.ts";

/** One measurement. */
export const DataPoint = z.object({
  timestamp: z.number().describe("Milliseconds since the epoch"),
  value: z.number(),
});

/** What the stream of points added up to. */
export const AggregateResult = z.object({
  count: z.number().int(),
  sum: z.number(),
  mean: z.number(),
  min: z.number().nullable(),
  max: z.number().nullable(),
});

export const analytics = new Service("analytics", { description: "Streaming aggregation" })
  .method("aggregate", {
    input: stream(DataPoint),
    output: AggregateResult,
    description: "Aggregates a stream of data points into count, sum, mean, min and max.",
  }, async (points) => {
    let count = 0;
    let sum = 0;
    let min: number | null = null;
    let max: number | null = null;
    for await (const point of points) {
      count++;
      sum += point.value;
      min = min === null ? point.value : Math.min(min, point.value);
      max = max === null ? point.value : Math.max(max, point.value);
    }
    return { count, sum, mean: count === 0 ? 0 : sum / count, min, max };
  });
