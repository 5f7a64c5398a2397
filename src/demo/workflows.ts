/** The demo's own workflow: what a workflow author writes to call a protected API. */
import { webServiceCall } from '../workflow';

export async function demoWhoAmI(server: string, apiUrl: string): Promise<unknown> {
  const response = await webServiceCall({ server, method: 'GET', url: `${apiUrl}/whoami` });
  return response.body;
}
