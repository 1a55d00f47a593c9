// dynastream's module resolve hook, registered by bootstrap.mjs (module.register) before it imports an ES module
// handler. ES modules ignore NODE_PATH, but on AWS `import { DynamoDBClient } from '@aws-sdk/client-dynamodb'`
// finds the SDK the runtime ships; this hook gives ES modules the same reach.
//
// Contract: a bare specifier (`aws-sdk`, `@aws-sdk/client-dynamodb`) that Node's own resolution cannot find is
// resolved again from each NODE_PATH folder named `node_modules`, in order. The function's own node_modules is
// therefore still found first, as on AWS; everything else is left to Node.

import path from 'path';
import { pathToFileURL } from 'url';

let fallbackParents = [];

export function initialize(data) {
  const paths = (data && data.paths) || [];
  // Resolving from `<folder>/../x.mjs` looks in `<folder>` first when the folder is a `node_modules`.
  fallbackParents = paths
    .filter((folder) => path.basename(folder) === 'node_modules')
    .map((folder) => pathToFileURL(path.join(path.dirname(folder), '__dynastream_resolve__.mjs')).href);
}

function isBareSpecifier(specifier) {
  return !(
    specifier.startsWith('./') ||
    specifier.startsWith('../') ||
    specifier.startsWith('/') ||
    /^[a-zA-Z][a-zA-Z\d+.-]*:/.test(specifier)
  );
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (!error || error.code !== 'ERR_MODULE_NOT_FOUND' || !isBareSpecifier(specifier)) {
      throw error;
    }
    for (const parentURL of fallbackParents) {
      try {
        return await nextResolve(specifier, Object.assign({}, context, { parentURL }));
      } catch (_) {
        // Not in this folder either: try the next one.
      }
    }
    throw error;
  }
}
