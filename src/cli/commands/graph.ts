import { Args } from '@oclif/core';
import { BpCommand } from '../base.js';
import { refresh, sourceFlags, target } from '../flags.js';

export default class Graph extends BpCommand {
  static override summary = 'Print the plan as a Graphviz DOT graph.';
  static override examples = [
    '<%= config.bin %> graph env.yaml | dot -Tsvg > plan.svg',
    '<%= config.bin %> graph plan.json',
  ];
  static override args = { file: Args.string({ required: true, description: 'env file or saved plan' }) };
  static override flags = { target, refresh, ...sourceFlags };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Graph);
    const { graphCommand } = await import('../operations/inspect.js');
    process.exitCode = await graphCommand(args.file, flags);
  }
}
