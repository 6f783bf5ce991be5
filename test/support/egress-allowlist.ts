/** An egress allow-list (YAML) expecting one partner: HTTPS to 203.0.113.0/24, entry id `partner-api`. */
export const PARTNER_ALLOWLIST_YAML = [
  'version: 1',
  'destinations:',
  '  - id: partner-api',
  '    owner: integrations',
  '    reason: partner API',
  '    expires: 2099-12-31',
  '    match: { cidr: 203.0.113.0/24, ports: 443 }',
].join('\n');
