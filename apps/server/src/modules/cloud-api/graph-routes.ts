/**
 * What every Graph-path route of the Business Messaging API shares: the version check, the
 * bearer token, and the objects behind `/{version}/{id}`. Graph serves phone numbers,
 * accounts, media and templates all at that one path, so each part of the API registers a
 * `GraphObjects` that answers for the ids it owns; the first that knows an id answers.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { graphErrors } from './graph-error.js';

const VERSION = /^v(\d+)\.(\d+)$/;
export const OLDEST_MAJOR = 16;

/** The bearer token of a Graph request: the header, or the `access_token` query parameter. */
export function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (match?.[1]) return match[1];
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.access_token === 'string' ? query.access_token : undefined;
}

/** Whether a first path segment is a Graph version (`v23.0`); old versions are refused. */
export function isGraphVersion(version: string): boolean {
  const match = VERSION.exec(version);
  if (!match) return false;
  if (Number(match[1]) < OLDEST_MAJOR) {
    throw graphErrors.invalidParameter(
      `Version ${version} is not supported; use v${OLDEST_MAJOR}.0 or later.`,
    );
  }
  return true;
}

export interface GraphCaller {
  businessId: string;
}

/** An object kind served at `/{version}/{id}`; each method answers undefined for ids not its own. */
export interface GraphObjects {
  get?(caller: GraphCaller, id: string, request: FastifyRequest): Promise<unknown | undefined>;
  post?(caller: GraphCaller, id: string, request: FastifyRequest): Promise<unknown | undefined>;
  delete?(caller: GraphCaller, id: string, request: FastifyRequest): Promise<unknown | undefined>;
}

export interface GraphRouteContext {
  /**
   * The caller of a Graph path: checks the version and the token. Undefined when the first
   * segment is no version (the route should then answer Parley's 404).
   */
  caller(request: FastifyRequest): Promise<GraphCaller | undefined>;
  /** Route options every Graph route uses (docs tags, security). */
  schema(summary: string): { schema: Record<string, unknown> };
}

/** A part of the Business Messaging API that adds its own Graph paths. */
export type GraphRoutes = (app: FastifyInstance, ctx: GraphRouteContext) => void | Promise<void>;
