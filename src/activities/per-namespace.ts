import { Context } from '@temporalio/activity';

/**
 * One instance per namespace for the activity that is running: a server name stands for a
 * different workflow in each namespace, so caches and queues keyed by it must not be shared.
 */
export function perNamespace<T>(create: () => T): () => T {
  const instances = new Map<string, T>();
  return () => {
    const namespace = Context.current().info.namespace;
    let instance = instances.get(namespace);
    if (!instance) {
      instance = create();
      instances.set(namespace, instance);
    }
    return instance;
  };
}
