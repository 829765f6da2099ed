/**
 * Prints the GraphQL schema (SDL) the API serves, from the resolver classes alone:
 * `npm run schema` writes it to schema.graphql, and a test fails when that file is stale.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaBuilderModule, GraphQLSchemaFactory } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { RESOLVERS } from './src/resolvers';
import { SCHEMA_OPTIONS } from './src/schema-options';

export async function buildSchemaSdl(): Promise<string> {
  const app = await NestFactory.create(GraphQLSchemaBuilderModule, { logger: false });
  await app.init();
  const factory = app.get(GraphQLSchemaFactory);
  const schema = await factory.create(RESOLVERS, SCHEMA_OPTIONS);
  await app.close();
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

if (require.main === module) {
  buildSchemaSdl().then(
    (sdl) => process.stdout.write(sdl),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
