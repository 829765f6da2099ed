/**
 * Depth and cost limits for GraphQL operations, computed before anything runs.
 * Depth counts nested field selections (introspection fields excluded, so tools keep working).
 * Cost counts one per field, multiplied along lists: by the `first` argument where a field takes
 * one (else the default page size), and by LIST_GUESS for other list fields. The first list under
 * a paginated field (`edges`, `events`, …) is the page itself: `first` already counts it.
 */
import {
  getNamedType,
  getNullableType,
  GraphQLList,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  isCompositeType,
  valueFromASTUntyped,
} from 'graphql';

export interface QueryLimits {
  maxDepth: number;
  maxComplexity: number;
  defaultPageSize: number;
  /**
   * Largest `first` accepted: a larger one is costed at this size, because argument validation
   * rejects it anyway with a precise BAD_USER_INPUT (default: no cap).
   */
  maxPageSize?: number;
}

/** Assumed size of a list field that takes no `first` argument (timeline, children, …). */
export const LIST_GUESS = 20;

export interface QueryCost {
  depth: number;
  complexity: number;
}

export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  defaultPageSize: number,
  maxPageSize = Number.POSITIVE_INFINITY,
): QueryCost {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    if (def.kind === Kind.OPERATION_DEFINITION && (!operationName || def.name?.value === operationName)) operation ??= def;
  }
  if (!operation) return { depth: 0, complexity: 0 };
  const root =
    operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) return { depth: 0, complexity: 0 };

  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType, seen: ReadonlySet<string>, inPage: boolean): QueryCost => {
    let depth = 0;
    let complexity = 0;
    const visitField = (field: FieldNode) => {
      const name = field.name.value;
      if (name.startsWith('__')) return;
      const def = 'getFields' in parent ? parent.getFields()[name] : undefined;
      let multiplier = 1;
      let opensPage = false;
      let pageList = false;
      const firstArg = field.arguments?.find((a) => a.name.value === 'first');
      if (firstArg) {
        const value = valueFromASTUntyped(firstArg.value, variables);
        multiplier = typeof value === 'number' && value > 0 ? Math.min(value, maxPageSize) : defaultPageSize;
        opensPage = true;
      } else if (def && def.args.some((a) => a.name === 'first')) {
        multiplier = defaultPageSize;
        opensPage = true;
      } else if (def && getNullableType(def.type) instanceof GraphQLList) {
        if (inPage) pageList = true;
        else multiplier = LIST_GUESS;
      }
      // A paginated field that is itself a list (e.g. recentTasks(first)) is its own page.
      const listItself = def !== undefined && getNullableType(def.type) instanceof GraphQLList;
      const childInPage = (opensPage && !listItself) || (inPage && !pageList && !listItself);
      let childDepth = 0;
      let childCost = 0;
      if (field.selectionSet && def) {
        const named = getNamedType(def.type);
        if (isCompositeType(named)) ({ depth: childDepth, complexity: childCost } = walk(field.selectionSet, named, seen, childInPage));
      }
      depth = Math.max(depth, 1 + childDepth);
      complexity += 1 + multiplier * childCost;
    };
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) visitField(selection);
      else {
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
        if (!fragment) continue;
        const key = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : '';
        if (key && seen.has(key)) continue; // cycles are a validation error reported elsewhere
        const typeName = fragment.typeCondition?.name.value;
        const type = typeName ? schema.getType(typeName) : parent;
        const inner = walk(fragment.selectionSet, isCompositeType(type) ? type : parent, key ? new Set([...seen, key]) : seen, inPage);
        depth = Math.max(depth, inner.depth);
        complexity += inner.complexity;
      }
    }
    return { depth, complexity };
  };
  return walk(operation.selectionSet, root, new Set(), false);
}

/**
 * An error message when the operation is over a limit, else null: it names the limit, the setting
 * that raises it and what to change in the query.
 */
export function checkQueryLimits(cost: QueryCost, limits: QueryLimits): string | null {
  if (cost.depth > limits.maxDepth) {
    return `query depth ${cost.depth} exceeds the limit of ${limits.maxDepth} (CM_API_MAX_DEPTH): select fewer nested levels (e.g. fetch parents or children in a second query)`;
  }
  if (cost.complexity > limits.maxComplexity) {
    return `query cost ${cost.complexity} exceeds the limit of ${limits.maxComplexity} (CM_API_MAX_COMPLEXITY): ask for smaller pages (lower \`first\`) or fewer nested lists`;
  }
  return null;
}
