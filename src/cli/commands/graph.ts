import { BpCommand } from '../base.js';
import { operations } from '../operations-loader.js';
import { refresh, requiredArg, sourceFlags, target } from '../flags.js';

export default class Graph extends BpCommand {
  static override summary = 'Print the plan as a Graphviz DOT graph.';
  static override examples = [
    '<%= config.bin %> graph env.yaml | dot -Tsvg > plan.svg',
    '<%= config.bin %> graph plan.json',
  ];
  static override args = { file: requiredArg('env file or saved plan') };
  static override flags = { target, refresh, ...sourceFlags };

  async run(): Promise<void> {
    await this.runOperation(Graph, operations.inspect, (m, { args, flags }) => m.graphCommand(args.file, flags));
  }
}
