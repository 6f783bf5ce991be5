/** Part 4 of the benchmark: EC2/RDS API calls per discovery as the number of SGs grows. */
import { type DiscoveryRow, discoveryCost } from '../discovery';

export async function discoverySection(sizes: readonly number[]): Promise<string> {
  const runs: DiscoveryRow[] = [];
  for (const n of sizes) {
    process.stderr.write(`  discovery: ${n} SGs …\n`);
    runs.push(await discoveryCost(n));
  }
  const operations = Object.keys(runs[0]?.items ?? {});
  const rows = operations.map((op) => {
    const cells = runs.map((r) => {
      const calls = r.apiCalls[op] ?? 0;
      return `${r.items[op]?.toLocaleString('en-US')} → ${calls} call${calls === 1 ? '' : 's'} (pages ${r.pages[op]})`;
    });
    const ok = runs.every((r) => (r.apiCalls[op] ?? 0) === r.pages[op] && r.mockCalls[op] === r.apiCalls[op]);
    return `| ${op} | ${cells.join(' | ')} | ${ok ? 'pass' : 'FAIL'} |`;
  });
  const total = (r: DiscoveryRow) => Object.values(r.apiCalls).reduce((a, b) => a + b, 0);
  return `## Discovery cost (EC2 / RDS API calls per audit)

Ec2InventorySource (pageSize 1000, whole region) against mocked EC2 and RDS clients serving the
synthetic account in pages (MaxResults/NextToken, MaxRecords/Marker; the adapter clamps page sizes
to each API's bounds: 100 for network ACLs, prefix lists and DB instances). Each cell: items listed
→ calls the adapter counted (its apiCalls; the mocks received the same number) and ceil(items ÷
page size). Target: calls = pages, never per SG.

| operation | ${runs.map((r) => `${r.securityGroups.toLocaleString('en-US')} SGs`).join(' | ')} | target: calls = pages |
| --- | ${runs.map(() => '---').join(' | ')} | --- |
${rows.join('\n')}
| **all calls** | ${runs.map((r) => `**${total(r)}** (${(total(r) / r.securityGroups).toFixed(3)} per SG, ${r.wallMs} ms)`).join(' | ')} | |

100 and 1,000 SGs both fit one DescribeSecurityGroups page and make the same ${runs[0]?.apiCalls['ec2:DescribeSecurityGroups']} call: for a fixed number of pages
the call count does not depend on the number of SGs. GetManagedPrefixListEntries is one call per
referenced prefix list (3 here, at every size). rds:DescribeDBInstances pages by 100 (the API's
maximum), so it is the largest count at 10,000 SGs (2,500 DB instances in this account).
`;
}
