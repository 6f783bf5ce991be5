import { peerFamily, peerText } from '../../../shared/rules/peer';

describe('peerText', () => {
  it('writes a CIDR peer as written in the rule', () => {
    expect(peerText({ kind: 'cidr', cidr: '10.0.0.5/24', family: 'ipv4' })).toBe('10.0.0.5/24');
  });

  it('writes an SG reference as its group id', () => {
    expect(peerText({ kind: 'sg', groupId: 'sg-0a1b', userId: '123456789012' })).toBe('sg-0a1b');
  });

  it('writes a prefix list as its id', () => {
    expect(peerText({ kind: 'prefix-list', prefixListId: 'pl-63a5400a' })).toBe('pl-63a5400a');
  });
});

describe('peerFamily', () => {
  it('gives the family of a CIDR peer only', () => {
    expect(peerFamily({ kind: 'cidr', cidr: '::/0', family: 'ipv6' })).toBe('ipv6');
    expect(peerFamily({ kind: 'sg', groupId: 'sg-1' })).toBeUndefined();
    expect(peerFamily({ kind: 'prefix-list', prefixListId: 'pl-1' })).toBeUndefined();
  });
});
