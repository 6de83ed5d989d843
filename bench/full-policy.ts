/** The benchmark's full treatment: 19 rules that do not match its calls, then the one that does, and a rate limit set too high to bite. */
export const FULL_POLICY = `policy:
  rules:
${Array.from({ length: 19 }, (_, i) => `    - { name: other-${i}, effect: ${i % 4 === 3 ? 'deny' : 'allow'}, servers: ["*"], tools: ["tool-${i}-*"], when: 'args.n < ${i}' }`).join('\n')}
    - { name: echo-text, effect: allow, servers: ["*"], principal: { scopes: [mcp] }, when: 'size(args) < 10', guards: { values: { text: { type: string, maxLength: 65536 } } } }
  limits:
    - { name: per-agent, per: agent, rate: 1000000/s, burst: 1000000 }
`;
