/** The version problem of a Node.js version (default: this one), or undefined when it is new enough. */
export function nodeProblem(version?: string): string | undefined;
export const REQUIRED: { major: number; minor: number };
