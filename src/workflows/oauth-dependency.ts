import * as wf from '@temporalio/workflow';
import type { RegisterDependentInput } from '../activities/register-dependent';
import { SERVER_UNAVAILABLE_FAILURES, ServerFailure, WebServiceCallFailure } from '../contract/failures';
import { serverAvailabilitySignal, serverWorkflowId, unregisterDependentSignal, type ServerAvailability } from '../contract/definitions';
import { normaliseServerName } from '../oauth/server-name';
import { AvailabilityRouter } from './availability-router';

interface RegistrationActivity {
  registerOAuthDependent(input: RegisterDependentInput): Promise<ServerAvailability>;
}

/** What a step's failure says about its server before the server's own message arrives. */
const STATUS_OF_UNAVAILABLE_FAILURE: Record<string, ServerAvailability['status']> = {
  [WebServiceCallFailure.ServerDisabled]: 'Error',
  [WebServiceCallFailure.ServerNotAuthorized]: 'NotAuthorized',
};

function unavailableStatus(error: unknown): ServerAvailability['status'] | undefined {
  const cause = error instanceof wf.ActivityFailure ? error.cause : error;
  if (!(cause instanceof wf.ApplicationFailure) || !SERVER_UNAVAILABLE_FAILURES.includes(cause.type ?? '')) return undefined;
  return STATUS_OF_UNAVAILABLE_FAILURE[cause.type ?? ''];
}

interface WorkflowDependencies {
  router: AvailabilityRouter;
  /** By normalised server name: registering a server again shares its dependency. */
  byServer: Map<string, OAuthServerDependency>;
}

/** Module state is the workflow run's own (the SDK gives each run its own modules), so this is one per workflow. */
let workflowDependencies: WorkflowDependencies | undefined;

/** The one availability handler of this workflow, installed with its first dependency. */
function dependenciesOfThisWorkflow(): WorkflowDependencies {
  if (!workflowDependencies) {
    const router = new AvailabilityRouter();
    wf.setHandler(serverAvailabilitySignal, (message) => {
      const problem = router.deliver(message);
      if (problem !== undefined) wf.log.warn('ignored an OAuth server availability message with an invalid field', { field: problem });
    });
    workflowDependencies = { router, byServer: new Map() };
  }
  return workflowDependencies;
}

/**
 * Makes a workflow pausable on its OAuth servers in a few lines:
 *
 * ```ts
 * const crm = await OAuthServerDependency.register('crm');
 * const page = await crm.run(() => webServiceCall({ server: 'crm', url }));
 * ```
 *
 * `run` waits while the server is disabled or not authorized, and redoes the step when the server
 * turned unavailable under it, once the server is enabled again. Whatever the step did not finish
 * is redone; a step must therefore be safe to repeat until it has returned.
 *
 * A workflow may depend on several servers, each pausing only its own steps. Registering a server
 * again (in any spelling of its name) returns the same dependency, which the server forgets once
 * every registration of it has been released.
 */
export class OAuthServerDependency {
  /** Steps held back by the server's state; a step already under way runs to its end first. */
  private waiting = 0;
  /** What the last failed step said, until the server's own message newer than `seen` arrives. */
  private held?: { status: ServerAvailability['status']; seen: number };
  private holders = 1;

  private constructor(
    readonly server: string,
    private readonly router: AvailabilityRouter,
    private readonly registered: Promise<void>,
  ) {}

  /** Registers this workflow with the server. `carried` is the availability a previous run (before continue-as-new) knew. */
  static async register(server: string, carried?: ServerAvailability): Promise<OAuthServerDependency> {
    const { router, byServer } = dependenciesOfThisWorkflow();
    // Delivered before the registration is sent: the server may tell this workflow something before the registration returns.
    router.deliver(carried ?? { server, status: 'NotAuthorized', sequence: -1 });
    const key = normaliseServerName(server);
    const existing = byServer.get(key);
    if (existing) {
      existing.holders += 1;
      await existing.registered;
      return existing;
    }
    const registration = wf.proxyActivities<RegistrationActivity>({
      startToCloseTimeout: '30 seconds',
      retry: { maximumAttempts: 10, nonRetryableErrorTypes: [ServerFailure.NotFound, ServerFailure.Deleted] },
    });
    const registered = registration.registerOAuthDependent({ server, workflowId: wf.workflowInfo().workflowId }).then(
      (availability) => {
        router.deliver(availability);
      },
      (error: unknown) => {
        byServer.delete(key);
        throw error;
      },
    );
    const dependency = new OAuthServerDependency(server, router, registered);
    byServer.set(key, dependency);
    await registered;
    return dependency;
  }

  /** What the server last said; carry it over continue-as-new. */
  get availability(): ServerAvailability {
    return this.router.newestOf(this.server) ?? { server: this.server, status: 'NotAuthorized', sequence: -1 };
  }

  /** The server's status as this workflow knows it: what a step that just failed on it said, until the server's own message arrives. */
  get status(): ServerAvailability['status'] {
    const { sequence, status } = this.availability;
    return this.held && sequence <= this.held.seen ? this.held.status : status;
  }

  get available(): boolean {
    return this.availability.status === 'OK';
  }

  /** Paused: waiting for the server to be enabled, with no step under way. */
  get paused(): boolean {
    return this.waiting > 0;
  }

  /** Resolves once the server is OK; fails with OAuthServerDeleted if it is deleted meanwhile. */
  async whenAvailable(): Promise<void> {
    await this.waitFor(() => this.availability.status === 'OK' || this.availability.status === 'Deleted');
    if (this.availability.status === 'Deleted') {
      throw wf.ApplicationFailure.nonRetryable(`OAuth server ${this.server} was deleted`, ServerFailure.Deleted);
    }
  }

  async run<T>(step: () => Promise<T>): Promise<T> {
    for (;;) {
      await this.whenAvailable();
      const seen = this.availability.sequence;
      try {
        return await step();
      } catch (error) {
        const status = unavailableStatus(error);
        if (status === undefined) throw error;
        this.held = { status, seen };
        // The server's own message may still be on its way: wait for news newer than what this step saw.
        await this.waitFor(() => this.availability.sequence > seen);
      }
    }
  }

  /**
   * Tells the server to forget this workflow once every registration of the server has been
   * released; call it when the workflow is done with the server.
   */
  async release(): Promise<void> {
    this.holders = Math.max(0, this.holders - 1);
    if (this.holders > 0) return;
    const { byServer } = dependenciesOfThisWorkflow();
    const key = normaliseServerName(this.server);
    if (byServer.get(key) === this) byServer.delete(key);
    await wf
      .getExternalWorkflowHandle(serverWorkflowId(this.server))
      .signal(unregisterDependentSignal, { workflowId: wf.workflowInfo().workflowId })
      .catch(() => undefined);
  }

  private async waitFor(condition: () => boolean): Promise<void> {
    this.waiting += 1;
    try {
      await wf.condition(condition);
    } finally {
      this.waiting -= 1;
    }
  }
}
