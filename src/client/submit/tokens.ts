// What a submission to a Kerberized cluster carries besides horn's secret: fresh delegation
// tokens for this application alone (the RM cancels them when it ends, so the client's own
// session never goes in), and the edge node's hadoop.rpc.protection for the ApplicationMaster's
// RPC. Three traps fail an application here (shared/reference/kerberos.md): the WebHDFS default
// token kind, which the RM cannot renew; the RM token's empty service; a token the client reuses.
import { lookup } from 'node:dns/promises';
import { HornError } from '../../common/errors';
import type { HadoopConfiguration } from '../../hadoop/conf';
import { Credentials, decodeTokenFromUrlString, encodeTokenToUrlString, hdfsTokenService, rewriteToken, TokenKind } from '../../hadoop/security';
import type { ClientContext } from '../context';

export interface SecureSubmission {
  /** alias (the token's service) → URL string, for the RM's credentials.tokens; undefined without Kerberos. */
  readonly tokens?: Readonly<Record<string, string>>;
  /** hadoop.rpc.protection of the edge node, for the AM's choice of SASL qop. */
  readonly rpcProtection?: string;
}

/** yarn.resourcemanager.principal with _HOST resolved to the RM's host: who renews the application's tokens. */
export function renewerPrincipal(conf: HadoopConfiguration, rmHost: string): string {
  const principal = conf.getTrimmed('yarn.resourcemanager.principal');
  if (!principal) {
    throw new HornError(
      `${conf.sourceOf('yarn.resourcemanager.address') ?? 'yarn-site.xml'}: set yarn.resourcemanager.principal (e.g. rm/_HOST@REALM): a Kerberized cluster's ResourceManager renews the application's delegation tokens and must be named their renewer`,
      'cluster',
      { property: 'yarn.resourcemanager.principal' },
    );
  }
  return principal.replace('_HOST', rmHost.toLowerCase());
}

/** The RM delegation token's service: every RM's client address (yarn.resourcemanager.address) as ip:port, comma-joined under HA. */
export async function rmTokenService(conf: HadoopConfiguration, rmHosts: readonly string[]): Promise<string> {
  const ids = conf.getBoolean('yarn.resourcemanager.ha.enabled', false) ? conf.getTrimmedStrings('yarn.resourcemanager.ha.rm-ids') : [undefined];
  const services = await Promise.all(
    ids.map(async (id, i) => {
      const key = id ? `yarn.resourcemanager.address.${id}` : 'yarn.resourcemanager.address';
      const configured = conf.getTrimmed(key);
      const [host, port] = configured && !/^0\.0\.0\.0:/.test(configured) ? configured.split(':') : [rmHosts[i] ?? rmHosts[0]!, configured?.split(':')[1] ?? '8032'];
      // hadoop.security.token.service.use_ip (true by default): services name addresses, not host names.
      const useIp = conf.getBoolean('hadoop.security.token.service.use_ip', true);
      const address = useIp ? (await lookup(host!, { family: 4 })).address : host!.toLowerCase();
      return `${address}:${port}`;
    }),
  );
  return services.join(',');
}

/** Fresh HDFS and RM delegation tokens for one application, keyed by service. */
export async function applicationTokens(ctx: ClientContext): Promise<Record<string, string>> {
  const rmHosts = ctx.endpoints.rmWebUrls.map((u) => new URL(u).hostname);
  const renewer = renewerPrincipal(ctx.conf, rmHosts[0]!);
  const hdfsUrl = await ctx.hdfs.getDelegationToken(renewer, {
    kind: TokenKind.HDFS_DELEGATION,
    service: hdfsTokenService(ctx.endpoints.defaultFs, ctx.conf.getTrimmedStrings('dfs.nameservices')),
  });
  const hdfs = decodeTokenFromUrlString(hdfsUrl);
  if (hdfs.kind !== TokenKind.HDFS_DELEGATION) throw new HornError(`the NameNode issued a token of kind ${hdfs.kind}, not ${TokenKind.HDFS_DELEGATION}; the ResourceManager could not renew it`, 'cluster', { kind: hdfs.kind });
  // The RM issues its token with an empty service, for which its own renewer fails the application.
  const rm = rewriteToken(decodeTokenFromUrlString(await ctx.rm.getDelegationToken(renewer)), { service: await rmTokenService(ctx.conf, rmHosts) });
  return { [hdfs.service || TokenKind.HDFS_DELEGATION]: hdfsUrl, [rm.service]: encodeTokenToUrlString(rm) };
}

/** The Kerberos parts of a submission; nothing on a cluster with simple authentication. */
export async function secureSubmission(ctx: ClientContext): Promise<SecureSubmission> {
  const rpcProtection = ctx.conf.getTrimmed('hadoop.rpc.protection');
  if (!ctx.security.kerberos) return { rpcProtection };
  return { tokens: await applicationTokens(ctx), rpcProtection };
}

/** The tokens as a credentials file (what `horn renew` leaves for the running application). */
export function tokensAsCredentials(tokens: Readonly<Record<string, string>>): Credentials {
  const c = new Credentials();
  for (const [alias, url] of Object.entries(tokens)) c.addToken(alias, decodeTokenFromUrlString(url));
  return c;
}
