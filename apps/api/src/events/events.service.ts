/** The event log for audits: validates paging arguments and maps stored events to GraphQL events. */
import { Inject, Injectable } from '@nestjs/common';
import { EventQueries } from '../../../../libs/state/src';
import type { ApiConfig } from '../config';
import { API_CONFIG } from '../tokens';
import { toEventPageQuery, type EventsArgs } from './event-args';
import { toEventModel } from './event.mapper';
import type { EventPage } from './event.model';

@Injectable()
export class EventsService {
  constructor(
    private readonly queries: EventQueries,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async page(args: EventsArgs): Promise<EventPage> {
    const query = toEventPageQuery(args, this.config);
    const { events, endPosition, hasMore } = await this.queries.page(query);
    return { events: events.map(toEventModel), endPosition, hasMore };
  }
}
