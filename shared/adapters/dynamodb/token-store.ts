/**
 * The TokenStore port on the table: single-use link tokens (`TOKEN#<id>`, kept a day past the
 * link's expiry) and per-client action counts per window (`ACTIONS#<client>`), each settled by
 * one conditional write so concurrent requests cannot both pass.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TokenStore } from '../../ports/store.js';
import { keys } from './keys.js';
import { isConditionFailure, OnTable } from './table.js';

export class DynamoTokenStore extends OnTable implements TokenStore {
  async consume(tokenId: string, expiresAt: string, clientId?: string): Promise<boolean> {
    try {
      await this.send(
        'PutItem',
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.token(tokenId), type: 'token', ...(clientId ? { clientId } : {}), expiresAt: Math.ceil(Date.parse(expiresAt) / 1000) + 86_400 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async isConsumed(tokenId: string): Promise<boolean> {
    // Consistent: a link spent a moment ago, on another Lambda instance, is refused now.
    return (await this.db.getItem(keys.token(tokenId), true)) !== undefined;
  }

  async takeActionSlot(clientId: string, window: string, limit: number, expiresAt: string): Promise<boolean> {
    try {
      // One conditional ADD: concurrent actions each take a slot or are refused, never both.
      await this.send(
        'UpdateItem',
        new UpdateCommand({
          TableName: this.table,
          Key: keys.actions(clientId, window),
          UpdateExpression: 'ADD #n :one SET #t = :type, clientId = :client, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
          ExpressionAttributeNames: { '#n': 'count', '#t': 'type' },
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':type': 'actions', ':client': clientId, ':exp': Math.ceil(Date.parse(expiresAt) / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
