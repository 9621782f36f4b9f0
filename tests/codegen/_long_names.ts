/**
 * A service with long names, so that every construct of the generated code needs its multi-line
 * layout (the generated files must still pass `deno fmt --check`).
 */
import { RpcError, Service, stream, streaming, z } from "../../mod.ts";

/** Long names, so that every construct of the generated code needs its multi-line layout. */
export const AVeryLongSchemaNameForTheMeasurementsKeptInTheArchive = z.object({
  a_rather_long_property_name_that_holds_a_union_of_many_values: z.enum([
    "the_first_possible_value",
    "the_second_possible_value",
    "the_third_possible_value",
  ]),
  a_tuple_with_rather_long_element_types_inside_it: z.tuple([
    z.object({ first_element_with_a_long_name: z.string() }),
    z.object({ second_element_with_a_long_name: z.number() }),
  ]),
  an_array_of_a_union: z.array(
    z.union([z.string(), z.number(), z.boolean(), z.null()]).or(
      z.object({ nested_thing: z.string() }),
    ),
  ),
  keyed_by_a_long_enumeration: z.record(
    z.enum(["north_east_quadrant", "south_west_quadrant", "the_middle_of_nowhere"]),
    z.number(),
  ),
});

export const aServiceWithARatherLongName = new Service("a_service_with_a_rather_long_name")
  .method("stream_every_single_measurement_in_the_archive", {
    input: stream(AVeryLongSchemaNameForTheMeasurementsKeptInTheArchive),
    output: streaming(AVeryLongSchemaNameForTheMeasurementsKeptInTheArchive),
  }, async function* (items) {
    yield* items;
  })
  .method("list_every_single_measurement_in_the_archive", {
    input: z.object({ since: z.number() }),
    output: streaming(AVeryLongSchemaNameForTheMeasurementsKeptInTheArchive),
  }, async function* () {})
  .method("upload_every_single_measurement_in_the_archive", {
    input: stream(AVeryLongSchemaNameForTheMeasurementsKeptInTheArchive),
    output: AVeryLongSchemaNameForTheMeasurementsKeptInTheArchive,
  }, async (items) => {
    for await (const item of items) return item;
    throw new RpcError("invalid_argument", "no measurements");
  });
