import { Module } from '@nestjs/common';
import { WorkersResolver } from './workers.resolver';
import { WorkersService } from './workers.service';

@Module({ providers: [WorkersService, WorkersResolver], exports: [WorkersService] })
export class WorkersModule {}
