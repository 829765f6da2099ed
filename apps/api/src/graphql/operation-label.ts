/**
 * The `operation` label of the API's request metrics, bounded by the schema rather than by what
 * clients send: the operation type and the sorted, distinct root fields it selects (aliases
 * resolved, fragments followed), e.g. `query:tasks` or `query:task,workers`. A client-chosen
 * operation name would give every dashboard query a series of its own.
 *
 * Only fields of the schema's root type count (and the introspection fields `__schema`, `__type`,
 * `__typename`), so an invalid document cannot invent labels; the label is cut at
 * MAX_OPERATION_LABEL characters.
 */
import { Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLObjectType, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

export const MAX_OPERATION_LABEL = 120;
/** When no operation could be resolved (syntax errors, an unknown operationName, …). */
export const UNKNOWN_OPERATION = 'unknown';

const INTROSPECTION = new Set(['__schema', '__type', '__typename']);

export interface OperationLabels {
  /** `type:field,field` (see the file comment), or `unknown`. */
  operation: string;
  /** `query`, `mutation`, `subscription` or `unknown`. */
  type: string;
}

/**
 * Labels of the operation `operationName` selects in `document` (the only one when the name is
 * absent), or of `operation` when the caller already resolved it.
 */
export function operationLabels(
  schema: GraphQLSchema,
  document: DocumentNode | undefined,
  operationName?: string | null,
  operation?: OperationDefinitionNode,
): OperationLabels {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const def of document?.definitions ?? []) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    if (def.kind === Kind.OPERATION_DEFINITION) operations.push(def);
  }
  const chosen = operation ?? (operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined);
  if (!chosen) return { operation: UNKNOWN_OPERATION, type: UNKNOWN_OPERATION };
  const type = chosen.operation;
  const root = type === 'query' ? schema.getQueryType() : type === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const fields = [...rootFields(chosen.selectionSet, fragments, root ?? null)].sort();
  return { operation: cap(`${type}:${fields.length > 0 ? fields.join(',') : UNKNOWN_OPERATION}`), type };
}

function rootFields(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, root: GraphQLObjectType | null): Set<string> {
  const known = root?.getFields() ?? {};
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (selections: SelectionSetNode) => {
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (INTROSPECTION.has(name) || Object.hasOwn(known, name)) out.add(name);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !seen.has(name)) {
          seen.add(name);
          visit(fragment.selectionSet);
        }
      }
    }
  };
  visit(set);
  return out;
}

/** At most MAX_OPERATION_LABEL characters, cut after a whole field name and marked with `…`. */
function cap(label: string): string {
  if (label.length <= MAX_OPERATION_LABEL) return label;
  const cut = label.lastIndexOf(',', MAX_OPERATION_LABEL - 1);
  return `${label.slice(0, cut > 0 ? cut : MAX_OPERATION_LABEL - 1)}…`;
}
