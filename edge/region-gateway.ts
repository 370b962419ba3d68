// Routes each call to the region that owns it (README "Regions"): a TaskID's home region is in the
// TaskID, a Start goes to Data.Region or else to the region asked, a list to Data.Region or the region
// asked. The region asked is `own`: on a host its own runtime, on an edge worker a remote one like
// any other. One hop at most: a region's hosts answer for their own tasks only (gateway-rpc-server).
import type { StartRequest, TaskCommand } from '../protocol/api.js';
import { type CommandOutcome, type Health, InvalidParamError, type StartOutcome, type TaskGateway } from '../protocol/gateway.js';
import type { RecorderView, TaskQuery } from '../protocol/listing.js';
import { regionOf } from '../protocol/region.js';
import type { DescribeView } from '../protocol/task.js';

export class RegionGateway implements TaskGateway {
  private readonly regions: Map<string, TaskGateway>;

  constructor(
    private readonly own: string,
    /** Every region's gateway, `own`'s among them. */
    regions: Map<string, TaskGateway>,
  ) {
    if (!regions.has(own)) throw new Error(`region ${own} has no gateway`);
    this.regions = regions;
  }

  /** The gateway of a region: its own, or the one that calls that region's endpoint. */
  of(region: string): TaskGateway | undefined {
    return this.regions.get(region);
  }

  /** The region a TaskID belongs to (its own for one that names none). */
  homeOf(taskId: string): string {
    return regionOf(taskId) ?? this.own;
  }

  start(request: StartRequest): Promise<StartOutcome> {
    const region = request.Region ?? this.own;
    const gateway = this.regions.get(region);
    if (!gateway) return Promise.resolve({ ok: false, code: 'InvalidParam', message: `Data.Region ${JSON.stringify(region)} is not a region of this service (${this.known()})` });
    return gateway.start({ ...request, Region: region });
  }

  command(taskId: string, command: TaskCommand): Promise<CommandOutcome> {
    const gateway = this.regions.get(this.homeOf(taskId));
    if (!gateway) return Promise.resolve({ ok: false, code: 'TaskNotFound', message: this.unknownHome(taskId) });
    return gateway.command(taskId, command);
  }

  describe(taskId: string): Promise<DescribeView | null> {
    return this.regions.get(this.homeOf(taskId))?.describe(taskId) ?? Promise.resolve(null);
  }

  async listTasks(query: TaskQuery): Promise<DescribeView[]> {
    const { region = this.own, ...rest } = query;
    return this.named(region).listTasks(rest);
  }

  async describeRecorders(region = this.own): Promise<RecorderView[]> {
    return this.named(region).describeRecorders();
  }

  health(): Promise<Health> {
    return this.regions.get(this.own)!.health();
  }

  known(): string {
    return `its regions: ${[...this.regions.keys()].join(', ')}`;
  }

  private named(region: string): TaskGateway {
    const gateway = this.regions.get(region);
    if (!gateway) throw new InvalidParamError(`Data.Region ${JSON.stringify(region)} is not a region of this service (${this.known()})`);
    return gateway;
  }

  private unknownHome(taskId: string): string {
    return `TaskID ${JSON.stringify(taskId)} not found: it names region ${this.homeOf(taskId)}, which is not a region of this service (${this.known()})`;
  }
}
