/**
 * The agent's HTTP/JSON API under {@code /v1} ({@link dev.ferry.agent.api.HttpApi}, its routes listed
 * in the class doc). Requests are parsed into typed records at the edge and handed down to the host
 * service or to {@link dev.ferry.migration}; failures leave as one JSON shape ({@code ApiErrors}).
 *
 * <p>With TLS ({@link dev.ferry.agent.api.ApiTls}) the only connector is HTTPS asking for a client
 * certificate ({@code HttpsConnector}), and {@code ClientAccess} decides, before any handler runs,
 * whether the cluster CA signed it and it is valid (401 otherwise) and whether its holder may make
 * the call: operators everything but the peer API, the agent's peers the peer API only.
 */
package dev.ferry.agent.api;
