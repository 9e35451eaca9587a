/**
 * The {@code ferry} command line (picocli). {@link dev.ferry.cli.Main} assembles the command tree;
 * {@code agent} runs a host agent in this process, {@code pki}, {@code tool} and {@code guest} work
 * locally, every other command is a client: it parses its
 * arguments, makes one call to an agent's HTTP API through {@code AgentClient}
 * ({@code --agent}, else {@code $FERRY_AGENT}, else {@code http://127.0.0.1:7780}; an {@code https://}
 * agent with the operator's certificate from {@code --cert} or {@code $FERRY_CERT}), and prints the
 * answer as a table, or as the API's JSON with {@code --json}. Failures print one line
 * {@code ferry: ...} on stderr and exit 1 (the agent said no), 2 (usage) or 3 (no agent answered).
 */
package dev.ferry.cli;
