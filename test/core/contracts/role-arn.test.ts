/** A destination's roleArn: a real partition, and the destination's own account. */
import { describe, expect, it } from 'vitest';
import { resolveDestinations } from '../../../core/contracts/destinations.ts';
import { InvalidInputError } from '../../../core/errors/errors.ts';
import { parseExecutionInput } from '../../../core/contracts/input-schema.ts';

const problemsOf = (destinations: unknown[]): string[] => {
  try {
    parseExecutionInput({ destinations }, { sourceRegion: 'ap-south-1' });
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).problems;
  }
};

describe('roleArn', () => {
  it.each(['aws', 'aws-cn', 'aws-us-gov'])('accepts a role in the %s partition', (partition) => {
    expect(
      problemsOf([
        {
          region: 'eu-west-1',
          registryId: '222222222222',
          roleArn: `arn:${partition}:iam::222222222222:role/W`,
        },
      ]),
    ).toEqual([]);
  });

  it.each(['arn:aws-evil-x:iam::222222222222:role/W', 'arn:aws-cn-x:iam::222222222222:role/W'])(
    'refuses a made-up partition: %s',
    (roleArn) => {
      expect(problemsOf([{ region: 'eu-west-1', roleArn }])).toEqual([
        expect.stringMatching(/^destinations\[0\]\.roleArn: must be an IAM role ARN/),
      ]);
    },
  );

  it('refuses a role of another account than the destination registry', () => {
    expect(
      problemsOf([
        { region: 'eu-west-1', registryId: '222222222222', roleArn: 'arn:aws:iam::333333333333:role/W' },
      ]),
    ).toEqual([
      'destinations[0].roleArn: must be a role of the destination account 222222222222 (the role is in 333333333333) (got "arn:aws:iam::333333333333:role/W")',
    ]);
  });

  it('refuses, once resolved, a Region-only request whose role is not in each selected account', () => {
    const rules = [
      {
        destinations: [
          { region: 'eu-west-1', registryId: '222222222222' },
          { region: 'eu-west-1', registryId: '333333333333' },
        ],
      },
    ];

    const resolved = resolveDestinations(
      [{ region: 'eu-west-1', roleArn: 'arn:aws:iam::222222222222:role/W' }],
      rules,
    );

    expect(resolved.destinations).toEqual([
      { region: 'eu-west-1', registryId: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/W' },
    ]);
    expect(resolved.problems).toEqual([
      'destinations[0].roleArn: the role is in account 222222222222, but the destination eu-west-1 (333333333333) is in 333333333333; roleArn must be a role of the destination account',
    ]);
  });
});
