/**
 * The live check's calls come from the offline engine: the same contract, read from the deployed
 * template, with every role, bucket, cluster and key named by its deployed physical id, so that
 * IAM's simulator is asked about the real resources.
 */
import type { ContractCallSource } from './index';
import { physicalResourceIds } from './stack';
import { contractCallsFromTemplate } from '../offline';

export const engineCalls: ContractCallSource = (stack, runner) => {
  const found = contractCallsFromTemplate(stack.template, {
    runnerId: runner.runnerId,
    env: { account: stack.account, region: stack.region, partition: stack.partition },
    physicalResourceIds: physicalResourceIds(stack),
  });
  return found[0]?.calls ?? [];
};
