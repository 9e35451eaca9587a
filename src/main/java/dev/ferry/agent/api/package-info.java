/**
 * The agent's HTTP/JSON API under {@code /v1} ({@link dev.ferry.agent.api.HttpApi}, its routes listed
 * in the class doc). Requests are parsed into typed records at the edge and handed down to the host
 * service or to {@link dev.ferry.migration}; failures leave as one JSON shape ({@code ApiErrors}).
 */
package dev.ferry.agent.api;
