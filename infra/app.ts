import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SatelliteStack } from './satellite-stack';
import { stageFromContext } from './stage';

const app = new App();
// One stack per stage (`-c stage=prod`), named after it, so stages live side by side in one account.
const stage = stageFromContext(app.node);
new SatelliteStack(app, `Satellite-${stage.name}`, {
  stage,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// Synthesis stops on any cdk-nag finding that is not acknowledged with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
