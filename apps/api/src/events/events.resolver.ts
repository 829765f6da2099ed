/** Queries over the event log. */
import { Args, Float, Int, Query, Resolver } from '@nestjs/graphql';
import { SCAN_WINDOW } from '../../../../libs/state/src';
import { EventFilter, EventPage } from './event.model';
import { EventsService } from './events.service';

@Resolver(() => EventPage)
export class EventsResolver {
  constructor(private readonly service: EventsService) {}

  @Query(() => EventPage, {
    description:
      'The event log for audits: matching events after a position (exclusive), in position order, at most `first` of them. ' +
      'Walk it by passing each page\'s endPosition as the next `after` until hasMore is false: no event is skipped or repeated, ' +
      `even while the collector appends. Without uuid or hostname, one page examines at most ${SCAN_WINDOW.toLocaleString('en-US')} positions of the log (a page may then be short, or empty, with hasMore true): ` +
      'no request holds the API for a scan of the whole log.',
  })
  events(
    @Args('filter', { type: () => EventFilter, nullable: true }) filter?: EventFilter | null,
    @Args('after', { type: () => Float, nullable: true, description: 'Exclusive lower bound on the position (default 0: the start of the log)' })
    after?: number | null,
    @Args('first', { type: () => Int, nullable: true, description: 'Page size: 1 to the maximum page size (CM_API_MAX_PAGE_SIZE); default CM_API_DEFAULT_PAGE_SIZE' })
    first?: number | null,
  ): Promise<EventPage> {
    return this.service.page({ filter, after, first });
  }
}
