import { defineSearchAttributeKey } from '@temporalio/common';

/** Admins list and filter OAuth servers through Temporal visibility with these keys. */
export const OAUTH_SERVER_NAME = defineSearchAttributeKey('OAuthServerName', 'KEYWORD');
export const OAUTH_SERVER_CATEGORY = defineSearchAttributeKey('OAuthServerCategory', 'KEYWORD');
export const OAUTH_SERVER_STATUS = defineSearchAttributeKey('OAuthServerStatus', 'KEYWORD');

export const OAUTH_SEARCH_ATTRIBUTES = [OAUTH_SERVER_NAME, OAUTH_SERVER_CATEGORY, OAUTH_SERVER_STATUS];
