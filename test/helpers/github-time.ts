/** A time as GitHub's REST API writes it: whole seconds, `2024-05-02T10:00:00Z`. */
export const githubTime = (at = new Date()) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');
