/** Pure decoding of Celery event messages (no I/O): transport envelope → body → events. */
export { decodeAmqpMessage, type AmqpEventMessage } from './amqp-message';
export { decodeRedisMessage, routingKeyFromChannel } from './redis-envelope';
export { decodeEventBody, type EventBodyMeta } from './event-body';
export { validateEvent, CELERY_EVENT_TYPES, type EventValidation, type TimestampBounds } from './event-validation';
export { reviveKombuTypes } from './kombu-json';
export { unsupportedContentReason } from './content-type';
