// Swagger 1.1 documents for the ARI simulator: the subset of Asterisk 22's ARI that cc-csat uses,
// in the same format a real Asterisk serves, so the unmodified ari-client builds its API from them.

type Param = { name: string; paramType: 'path' | 'query' | 'body'; required?: boolean; allowMultiple?: boolean; dataType: string };
type Operation = { httpMethod: string; nickname: string; responseClass: string; parameters: Param[]; errorResponses?: { code: number; reason: string }[] };
type Property = { type: string; required?: boolean; description?: string };
type Model = { id: string; description?: string; properties: Record<string, Property>; subTypes?: string[]; discriminator?: string };

const path = (name: string): Param => ({ name, paramType: 'path', required: true, allowMultiple: false, dataType: 'string' });
const query = (name: string, dataType = 'string', required = false, allowMultiple = false): Param => ({
  name,
  paramType: 'query',
  required,
  allowMultiple,
  dataType,
});
const op = (httpMethod: string, nickname: string, responseClass: string, parameters: Param[], errors: [number, string][] = []): Operation => ({
  httpMethod,
  nickname,
  responseClass,
  parameters,
  errorResponses: errors.map(([code, reason]) => ({ code, reason })),
});
const model = (id: string, properties: Record<string, string | Property>, extra: Partial<Model> = {}): Model => ({
  id,
  properties: Object.fromEntries(
    Object.entries(properties).map(([key, value]) => [key, typeof value === 'string' ? { type: value, required: true } : value]),
  ),
  ...extra,
});

function resourceDoc(basePath: string, resource: string, apis: { path: string; operations: Operation[] }[], models: Model[]) {
  return {
    apiVersion: '10.0.0',
    swaggerVersion: '1.1',
    basePath,
    resourcePath: `/api-docs/${resource}.{format}`,
    apis: apis.map((api) => ({ ...api, description: `${resource} ${api.path}` })),
    models: Object.fromEntries(models.map((m) => [m.id, m])),
  };
}

const NOT_FOUND: [number, string] = [404, 'Channel not found'];
const NOT_IN_STASIS: [number, string] = [409, 'Channel not in a Stasis application'];

const channelModels: Model[] = [
  model('CallerID', { name: 'string', number: 'string' }),
  model('DialplanCEP', { context: 'string', exten: 'string', priority: 'long', app_name: 'string', app_data: 'string' }),
  model('Channel', {
    id: 'string',
    protocol_id: 'string',
    name: 'string',
    state: 'string',
    caller: 'CallerID',
    connected: 'CallerID',
    accountcode: 'string',
    dialplan: 'DialplanCEP',
    creationtime: 'Date',
    language: 'string',
  }),
  model('Variable', { value: 'string' }),
];

const playbackModel = model('Playback', {
  id: 'string',
  media_uri: 'string',
  next_media_uri: { type: 'string', required: false },
  target_uri: 'string',
  language: { type: 'string', required: false },
  state: 'string',
});

export const EVENT_TYPES = [
  'StasisStart',
  'StasisEnd',
  'ChannelDtmfReceived',
  'ChannelHangupRequest',
  'ChannelDestroyed',
  'ChannelStateChange',
  'ChannelVarset',
  'ChannelDialplan',
  'Dial',
  'PlaybackStarted',
  'PlaybackContinuing',
  'PlaybackFinished',
  'ApplicationReplaced',
  'RecordingStarted',
  'RecordingFinished',
  'RecordingFailed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const eventModels: Model[] = [
  model('Message', { type: 'string', asterisk_id: { type: 'string', required: false } }, { discriminator: 'type', subTypes: ['Event'] }),
  model('Event', { application: 'string', timestamp: 'Date' }, { subTypes: [...EVENT_TYPES] }),
  model('StasisStart', { args: 'List[string]', channel: 'Channel', replace_channel: { type: 'Channel', required: false } }),
  model('StasisEnd', { channel: 'Channel' }),
  model('ChannelDtmfReceived', { digit: 'string', duration_ms: 'int', channel: 'Channel' }),
  model('ChannelHangupRequest', {
    cause: { type: 'int', required: false },
    soft: { type: 'boolean', required: false },
    channel: 'Channel',
  }),
  model('ChannelDestroyed', { cause: 'int', cause_txt: 'string', channel: 'Channel' }),
  model('ChannelStateChange', { channel: 'Channel' }),
  model('ChannelVarset', { variable: 'string', value: 'string', channel: { type: 'Channel', required: false } }),
  model('ChannelDialplan', { channel: 'Channel', dialplan_app: 'string', dialplan_app_data: 'string' }),
  model('Dial', {
    caller: { type: 'Channel', required: false },
    peer: 'Channel',
    forward: { type: 'string', required: false },
    dialstring: { type: 'string', required: false },
    dialstatus: 'string',
  }),
  model('PlaybackStarted', { playback: 'Playback' }),
  model('PlaybackContinuing', { playback: 'Playback' }),
  model('PlaybackFinished', { playback: 'Playback' }),
  model('ApplicationReplaced', {}),
  model('RecordingStarted', { recording: 'LiveRecording' }),
  model('RecordingFinished', { recording: 'LiveRecording' }),
  model('RecordingFailed', { recording: 'LiveRecording' }),
];

const liveRecordingModel = model('LiveRecording', {
  name: 'string',
  format: 'string',
  target_uri: 'string',
  state: 'string',
  duration: { type: 'int', required: false },
  talking_duration: { type: 'int', required: false },
  silence_duration: { type: 'int', required: false },
  cause: { type: 'string', required: false },
});

export const RESOURCES = ['channels', 'playbacks', 'applications', 'events'] as const;

export function resourceListing(basePath: string) {
  return {
    apiVersion: '10.0.0',
    swaggerVersion: '1.1',
    basePath,
    apis: RESOURCES.map((name) => ({ path: `/api-docs/${name}.{format}`, description: `${name} resources` })),
  };
}

/** Asterisk 20.13, 21.8, 22.3 and later: REST over the event WebSocket, answered by RESTResponse messages. */
const restResponseModel = model('RESTResponse', {
  transaction_id: 'string',
  request_id: 'string',
  status_code: 'int',
  reason_phrase: 'string',
  uri: 'string',
  content_type: { type: 'string', required: false },
  message_body: { type: 'string', required: false },
});

export function resourceDocument(name: string, basePath: string, options: { restOverWebSocket: boolean }): object | undefined {
  switch (name) {
    case 'channels':
      return resourceDoc(
        basePath,
        name,
        [
          { path: '/channels', operations: [op('GET', 'list', 'List[Channel]', [])] },
          {
            path: '/channels/{channelId}',
            operations: [
              op('GET', 'get', 'Channel', [path('channelId')], [NOT_FOUND]),
              op('DELETE', 'hangup', 'void', [path('channelId'), query('reason_code'), query('reason')], [[400, 'Invalid reason'], NOT_FOUND]),
            ],
          },
          {
            path: '/channels/{channelId}/continue',
            operations: [
              op('POST', 'continueInDialplan', 'void', [path('channelId'), query('context'), query('extension'), query('priority', 'int'), query('label')], [NOT_FOUND, NOT_IN_STASIS]),
            ],
          },
          { path: '/channels/{channelId}/answer', operations: [op('POST', 'answer', 'void', [path('channelId')], [NOT_FOUND, NOT_IN_STASIS])] },
          {
            path: '/channels/{channelId}/play',
            operations: [
              op('POST', 'play', 'Playback', [path('channelId'), query('media', 'string', true, true), query('lang'), query('offsetms', 'int'), query('skipms', 'int'), query('playbackId')], [NOT_FOUND, NOT_IN_STASIS]),
            ],
          },
          {
            path: '/channels/{channelId}/play/{playbackId}',
            operations: [
              op('POST', 'playWithId', 'Playback', [path('channelId'), path('playbackId'), query('media', 'string', true, true), query('lang'), query('offsetms', 'int'), query('skipms', 'int')], [NOT_FOUND, NOT_IN_STASIS]),
            ],
          },
          {
            path: '/channels/{channelId}/variable',
            operations: [
              op('GET', 'getChannelVar', 'Variable', [path('channelId'), query('variable', 'string', true)], [[400, 'Missing variable parameter.'], [404, 'Channel or variable not found'], NOT_IN_STASIS]),
            ],
          },
        ],
        channelModels,
      );
    case 'playbacks':
      return resourceDoc(
        basePath,
        name,
        [
          {
            path: '/playbacks/{playbackId}',
            operations: [
              op('GET', 'get', 'Playback', [path('playbackId')], [[404, 'The playback cannot be found']]),
              op('DELETE', 'stop', 'void', [path('playbackId')], [[404, 'The playback cannot be found']]),
            ],
          },
        ],
        [playbackModel],
      );
    case 'applications':
      return resourceDoc(
        basePath,
        name,
        [
          { path: '/applications', operations: [op('GET', 'list', 'List[Application]', [])] },
          { path: '/applications/{applicationName}', operations: [op('GET', 'get', 'Application', [path('applicationName')], [[404, 'Application does not exist.']])] },
          {
            path: '/applications/{applicationName}/eventFilter',
            operations: [
              op('PUT', 'filter', 'Application', [path('applicationName'), { name: 'filter', paramType: 'body', required: false, allowMultiple: false, dataType: 'object' }], [[400, 'Bad request.'], [404, 'Application does not exist.']]),
            ],
          },
        ],
        [
          model('Application', {
            name: 'string',
            channel_ids: 'List[string]',
            bridge_ids: 'List[string]',
            endpoint_ids: 'List[string]',
            device_names: 'List[string]',
          }),
        ],
      );
    case 'events':
      return resourceDoc(
        basePath,
        name,
        [{ path: '/events', operations: [op('GET', 'eventWebsocket', 'Message', [query('app', 'string', true, true), query('subscribeAll', 'boolean')])] }],
        [...eventModels, ...(options.restOverWebSocket ? [restResponseModel] : []), playbackModel, liveRecordingModel, ...channelModels],
      );
    default:
      return undefined;
  }
}
