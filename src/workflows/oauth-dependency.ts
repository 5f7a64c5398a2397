import * as wf from '@temporalio/workflow';
import type { RegisterDependentInput } from '../activities/register-dependent';
import { SERVER_UNAVAILABLE_FAILURES, ServerFailure } from '../contract/failures';
import { serverAvailabilitySignal, serverWorkflowId, unregisterDependentSignal, type ServerAvailability } from '../contract/definitions';

interface RegistrationActivity {
  registerOAuthDependent(input: RegisterDependentInput): Promise<ServerAvailability>;
}


function isServerUnavailable(error: unknown): boolean {
  const cause = error instanceof wf.ActivityFailure ? error.cause : error;
  return cause instanceof wf.ApplicationFailure && SERVER_UNAVAILABLE_FAILURES.includes(cause.type ?? '');
}

/**
 * Makes a workflow pausable on its OAuth server in a few lines:
 *
 * ```ts
 * const crm = await OAuthServerDependency.register('crm');
 * const page = await crm.run(() => webServiceCall({ server: 'crm', url }));
 * ```
 *
 * `run` waits while the server is disabled or not authorized, and redoes the step when the server
 * turned unavailable under it, once the server is enabled again. Whatever the step did not finish
 * is redone; a step must therefore be safe to repeat until it has returned.
 */
export class OAuthServerDependency {
  /** True while a step is held back by the server's state; a step already under way runs to its end first. */
  private waiting = false;

  private constructor(
    readonly server: string,
    private current: ServerAvailability,
  ) {}

  /** Registers this workflow with the server. `carried` is the availability a previous run (before continue-as-new) knew. */
  static async register(server: string, carried?: ServerAvailability): Promise<OAuthServerDependency> {
    const dependency = new OAuthServerDependency(server, carried ?? { server, status: 'NotAuthorized', sequence: -1 });
    wf.setHandler(serverAvailabilitySignal, (message) => dependency.receive(message));
    const registration = wf.proxyActivities<RegistrationActivity>({
      startToCloseTimeout: '30 seconds',
      retry: { maximumAttempts: 10, nonRetryableErrorTypes: [ServerFailure.NotFound, ServerFailure.Deleted] },
    });
    dependency.receive(await registration.registerOAuthDependent({ server, workflowId: wf.workflowInfo().workflowId }));
    return dependency;
  }

  /** What the server last said; carry it over continue-as-new. */
  get availability(): ServerAvailability {
    return this.current;
  }

  get available(): boolean {
    return this.current.status === 'OK';
  }

  /** Paused: waiting for the server to be enabled, with no step under way. */
  get paused(): boolean {
    return this.waiting;
  }

  /** Resolves once the server is OK; fails with OAuthServerDeleted if it is deleted meanwhile. */
  async whenAvailable(): Promise<void> {
    this.waiting = true;
    try {
      await wf.condition(() => this.current.status === 'OK' || this.current.status === 'Deleted');
    } finally {
      this.waiting = false;
    }
    if (this.current.status === 'Deleted') {
      throw wf.ApplicationFailure.nonRetryable(`OAuth server ${this.server} was deleted`, ServerFailure.Deleted);
    }
  }

  async run<T>(step: () => Promise<T>): Promise<T> {
    for (;;) {
      await this.whenAvailable();
      const seen = this.current.sequence;
      try {
        return await step();
      } catch (error) {
        if (!isServerUnavailable(error)) throw error;
        // The server's own message may still be on its way: wait for news newer than what this step saw.
        this.waiting = true;
        await wf.condition(() => this.current.sequence > seen).finally(() => {
          this.waiting = false;
        });
      }
    }
  }

  /** Tells the server to forget this workflow; call it when the workflow is done. */
  async release(): Promise<void> {
    await wf
      .getExternalWorkflowHandle(serverWorkflowId(this.server))
      .signal(unregisterDependentSignal, { workflowId: wf.workflowInfo().workflowId })
      .catch(() => undefined);
  }

  private receive(message: ServerAvailability): void {
    if (message.sequence >= this.current.sequence) this.current = message;
  }
}
